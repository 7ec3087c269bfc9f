"""The server's settings, chosen by whoever runs it: the limits that keep one student from stopping
the class, and the teacher's password.

    streamlit run streamlit_app.py -- --teacher-password 'a secret' --max-job-minutes 20

Each has an environment variable too (`LATENT_TEACHER_PASSWORD`, `LATENT_MAX_JOB_MINUTES`, ...), for
servers started by a script; the command line wins. No Streamlit here (the training queue reads
them too), and no other module of the app.
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields

ENV_PREFIX = "LATENT_"
MB = 1_000_000


@dataclass(frozen=True)
class ServerSettings:
    """The server's limits and the teacher's password."""

    teacher_password: str = ""  # who types it on the Train page may stop or remove any job ("": nobody)
    max_job_minutes: float = 30.0  # the longest a job may be estimated to train on this machine
    max_waiting_jobs: int = 12  # jobs waiting to train, everyone's together
    jobs_per_client: int = 3  # jobs waiting or training of one device (one address), all its tabs together
    memory_share: float = 0.5  # of the memory free when a job or an encoding starts, what it may use
    user_folder_mb: float = 2000.0  # what the user folder (models trained here) may hold
    cache_mb: float = 500.0  # what the files published for browsers (static/cache) may take

    def validate(self) -> None:
        """Raise ValueError naming the first setting out of its range."""
        for name in ("max_job_minutes", "max_waiting_jobs", "jobs_per_client", "user_folder_mb", "cache_mb"):
            if not getattr(self, name) > 0:
                raise ValueError(f"--{name.replace('_', '-')} must be positive, got {getattr(self, name)}")
        if not 0 < self.memory_share <= 1:
            raise ValueError(f"--memory-share must be more than 0 and at most 1, got {self.memory_share}")

    @property
    def user_folder_bytes(self) -> int:
        return int(self.user_folder_mb * MB)

    @property
    def cache_bytes(self) -> int:
        return int(self.cache_mb * MB)


def parse_settings(argv: Sequence[str], environ: Mapping[str, str]) -> ServerSettings:
    """Settings from command-line options (after `--` on `streamlit run`), else environment variables,
    else the defaults. Options this app does not know are left alone (a test runner's, say). Raises
    ValueError naming a malformed value."""
    parser = argparse.ArgumentParser(
        prog="streamlit run streamlit_app.py --", exit_on_error=False, add_help=False, allow_abbrev=False
    )
    values = {}
    for field in fields(ServerSettings):
        kind = str if field.name == "teacher_password" else type(field.default)
        env = ENV_PREFIX + field.name.upper()
        try:
            values[field.name] = kind(environ[env]) if env in environ else field.default
        except ValueError:
            raise ValueError(f"${env} must be a {kind.__name__}, got {environ[env]!r}") from None
        parser.add_argument("--" + field.name.replace("_", "-"), type=kind, dest=field.name, default=None)
    try:
        known, _ = parser.parse_known_args(list(argv))
    except argparse.ArgumentError as error:
        raise ValueError(str(error)) from None
    values |= {name: value for name, value in vars(known).items() if value is not None}
    settings = ServerSettings(**values)
    settings.validate()
    return settings


@functools.cache
def server_settings() -> ServerSettings:
    """This server's settings, read once from its command line and environment."""
    return parse_settings(sys.argv[1:], os.environ)
