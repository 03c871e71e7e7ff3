package org.cohortfusion.cli;
public class CohortFusion { public static void main(String[] a){} }
