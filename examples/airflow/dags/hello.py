# SPDX-License-Identifier: Apache-2.0
"""A one-task DAG, so the quick start shows the DAG processor picking up the mounted dags/ folder."""

from __future__ import annotations

import pendulum
from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG

with DAG(dag_id="hello", schedule=None, start_date=pendulum.datetime(2025, 1, 1, tz="UTC"), catchup=False):
    BashOperator(task_id="say_hello", bash_command="echo hello from $(id -u):$(id -g)")
