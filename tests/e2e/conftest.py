import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from kms import Server, fresh_database  # noqa: E402


@pytest.fixture
def sqlite_server(tmp_path):
    server = Server(data_dir=str(tmp_path)).start()
    yield server
    server.stop()


@pytest.fixture
def postgres_server():
    server = Server(database_url=fresh_database()).start()
    yield server
    server.stop()
