/**
 * The one place that uses Spark's internal (Catalyst and unsafe) classes, which carry no
 * compatibility promise across Spark releases. Each use is kept because a benchmark showed it pays
 * on the ingest or extract path (docs/benchmarks.md) or because the public API cannot do it (an
 * observed metric of our own); callers see only public types: {@link org.apache.spark.sql.Column},
 * {@link org.apache.spark.sql.Dataset} and {@link FieldRow}.
 *
 * <p>What the package relies on is pinned by {@code SparkInternalsContractTest}: the constructor of
 * {@code StaticInvoke}, the null-bit layout of {@code UnsafeArrayData}, the buffer contract of
 * {@code TypedImperativeAggregate} under {@code Dataset.observe}, and {@code
 * queryExecution().toRdd()}. After a Spark upgrade, run it first.
 *
 * <p>Imports nothing of the project above {@code spark}: the ingest and features rules that run
 * here are written against Spark's types only.
 */
package org.cohortfusion.spark.internal;
