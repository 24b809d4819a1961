"""Where Spark runs and how its driver is reached, read from the environment (docs/spark.md).

- ``BANGFU_SPARK_MASTER`` (default ``local[*]``): ``local[N]`` runs Spark inside this process's
  JVM; ``spark://host:7077``, ``yarn`` or ``k8s://…`` sends the work to a cluster.
- ``BANGFU_SPARK_DRIVER_HOST``: the address executors use to reach this machine's driver. In local
  mode it is ``127.0.0.1``; on a cluster, Spark's own default (the host name) unless set.
- ``BANGFU_SPARK_BIND_ADDRESS``: the address the driver listens on; by default the driver host in
  local mode and Spark's default (all of the driver host's addresses) on a cluster.
- ``BANGFU_SPARK_LOG_DIR`` (default ``<BANGFU_DATA_DIR>/logs``): where the JVM's output goes, one
  file per run; a failure's message names the file.

``Settings.from_env`` reads these with the rest of the settings (``settings.spark``); the back end is
handed them, as every service is handed what the composition root built (ADR 17).

Everything else (memory, executors, S3 or HDFS credentials) is Spark's own ``spark-defaults.conf``
in ``SPARK_CONF_DIR``, which the driver reads at start; Bangfu sets nothing that would override it on
a cluster.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

MASTER_ENV = "BANGFU_SPARK_MASTER"
DRIVER_HOST_ENV = "BANGFU_SPARK_DRIVER_HOST"
BIND_ADDRESS_ENV = "BANGFU_SPARK_BIND_ADDRESS"
LOG_DIR_ENV = "BANGFU_SPARK_LOG_DIR"
DEFAULT_MASTER = "local[*]"
LOOPBACK = "127.0.0.1"
# A local run has a few cores: Spark's default of 200 shuffle partitions would be 200 tiny tasks per
# exchange. Adaptive execution still merges or splits them by size.
LOCAL_SHUFFLE_PARTITIONS = "4"


@dataclass(frozen=True)
class SparkSettings:
    master: str = DEFAULT_MASTER
    driver_host: str | None = None
    bind_address: str | None = None
    log_dir: Path = Path("var/logs")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None, data_dir: Path) -> SparkSettings:
        """The settings in ``environ`` (this process's environment if None); logs under ``data_dir``."""
        env = os.environ if environ is None else environ
        return cls(
            master=(env.get(MASTER_ENV) or "").strip() or DEFAULT_MASTER,
            driver_host=(env.get(DRIVER_HOST_ENV) or "").strip() or None,
            bind_address=(env.get(BIND_ADDRESS_ENV) or "").strip() or None,
            log_dir=Path(env.get(LOG_DIR_ENV) or data_dir / "logs").resolve(),
        )

    @property
    def local(self) -> bool:
        return self.master == "local" or self.master.startswith("local[")

    def config(self) -> dict[str, str]:
        """The Spark properties Bangfu sets when it starts the driver."""
        conf = {
            # dates are compared as dates: no shift by the machine's time zone
            "spark.sql.session.timeZone": "UTC",
            # the progress bar would only clutter the log file the JVM writes to
            "spark.ui.showConsoleProgress": "false",
        }
        host = self.driver_host or (LOOPBACK if self.local else None)
        # Local mode: the driver is its own executor. Left alone, Spark advertises the host name's
        # address (or, when that is a loopback address, the first network interface's) while
        # listening where spark.driver.bindAddress says; if the two differ the first shuffle
        # cannot fetch its blocks. Listening and advertising the same loopback address works on
        # any host and opens no port to the network.
        bind = self.bind_address or (host if self.local else None)
        if host:
            conf["spark.driver.host"] = host
        if bind:
            conf["spark.driver.bindAddress"] = bind
        if self.local:
            conf["spark.ui.enabled"] = "false"
            conf["spark.sql.shuffle.partitions"] = LOCAL_SHUFFLE_PARTITIONS
        return conf
