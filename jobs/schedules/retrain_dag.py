"""Apache Airflow DAG: retrain cohort-fusion when a new cohort snapshot lands, and branch on the gate.

The retrain task runs `jobs/submit.sh --wait ... -- retrain` rather than SparkSubmitOperator: in cluster deploy mode
spark-submit exits 0 even when the driver failed, and submit.sh --wait turns the run's status file into the exit
code to branch on:
  0 promoted  -> `deploy_champion` runs
  3 gate not passed (challenger registered, champion unchanged) -> the task is skipped, `notify_not_promoted` runs
  2 bad input or config -> the task fails for good, no retries (fix the snapshot or the config first)
  1 failure (also: another retrain holds the registry's lock), 4 no final status seen -> retried
The run id is derived from the DAG run, so a retry resumes the same run (completed stages are skipped, the
challenger is never registered twice). <output.dir>/retrain/retrain.json has every gate criterion with both
sides' numbers, the drift and the lineage; report.html the same as a page.

Airflow 2.4+. Set COHORT_FUSION_HOME, SPARK_HOME (environment of the worker) and the paths below.
"""
import os
import re
import subprocess
from datetime import datetime, timedelta

from airflow.decorators import dag, task
from airflow.exceptions import AirflowFailException, AirflowSkipException
from airflow.operators.empty import EmptyOperator
from airflow.sensors.filesystem import FileSensor
from airflow.utils.trigger_rule import TriggerRule

HOME = os.environ.get("COHORT_FUSION_HOME", "/opt/cohort-fusion")
CONFIG = "hdfs://namenode:8020/conf/demo.conf"
SNAPSHOTS = "hdfs://namenode:8020/cohorts/demo"
SPARK_SUBMIT = ["--master", "yarn", "--deploy-mode", "cluster"]


@dag(
    dag_id="cohort_fusion_retrain",
    schedule="@weekly",
    start_date=datetime(2026, 12, 1),
    catchup=False,
    max_active_runs=1,  # the registry's lock refuses a second retrain anyway
    default_args={"retries": 2, "retry_delay": timedelta(minutes=15)},
)
def cohort_fusion_retrain():
    snapshot_landed = FileSensor(
        task_id="snapshot_landed",
        filepath="/mnt/cohorts/demo/{{ ds }}/_SUCCESS",  # the data pipeline's completion marker
        poke_interval=600,
        timeout=6 * 3600,
        mode="reschedule",
    )

    @task
    def retrain(ds=None, run_id=None):
        run = "retrain-" + re.sub(r"[^A-Za-z0-9_.-]", "-", run_id)
        cmd = ["jobs/submit.sh", "--wait", *SPARK_SUBMIT, "--", "retrain", "--config", CONFIG,
               "--set", f"cohort-dir={SNAPSHOTS}/{ds}", "--run-id", run]
        rc = subprocess.run(cmd, cwd=HOME).returncode
        if rc == 3:
            raise AirflowSkipException(f"{run}: the challenger did not pass the gate; the champion is unchanged")
        if rc == 2:
            raise AirflowFailException(f"{run}: bad input or config (exit 2); retrying cannot help")
        if rc != 0:
            raise RuntimeError(f"{run}: retrain failed with exit code {rc}")  # retried

    deploy_champion = EmptyOperator(task_id="deploy_champion")  # e.g. reload serving from name@champion
    notify_not_promoted = EmptyOperator(  # e.g. a message with the retrain report's link
        task_id="notify_not_promoted", trigger_rule=TriggerRule.ALL_SKIPPED
    )
    snapshot_landed >> retrain() >> [deploy_champion, notify_not_promoted]


cohort_fusion_retrain()
