package org.cohortfusion.testing;

import org.apache.spark.sql.SparkSession;

/**
 * The one local SparkSession shared by every test in the JVM. Created on first use and never
 * stopped: surefire runs all tests in one fork, and the JVM exit ends the session.
 */
public final class SparkTestSession {
    private static SparkSession session;

    private SparkTestSession() {
    }

    /** The shared session, created lazily (local[2], 4 shuffle partitions, no UI). */
    public static synchronized SparkSession get() {
        if (session == null) {
            session = SparkSession.builder()
                    .appName("cohort-fusion-tests")
                    .master("local[2]")
                    .config("spark.sql.shuffle.partitions", "4")
                    .config("spark.ui.enabled", "false")
                    .config("spark.sql.session.timeZone", "UTC")
                    .config("spark.driver.host", "127.0.0.1")
                    .getOrCreate();
            // Per-stage INFO lines flood the test output and slow the suite down.
            session.sparkContext().setLogLevel("WARN");
        }
        return session;
    }
}
