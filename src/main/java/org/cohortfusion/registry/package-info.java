/**
 * The model registry at the end of the data flow: immutable numbered versions of trained models,
 * aliases ({@code champion}, {@code challenger}, user-defined) replaced atomically, an append-only
 * event log, and a lock for one retrain at a time. It works on any Hadoop file system through
 * {@code org.apache.hadoop.fs}; it may use train, evaluate, io and config, and only cli uses it.
 */
package org.cohortfusion.registry;
