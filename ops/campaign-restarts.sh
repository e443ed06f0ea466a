#!/usr/bin/env bash
# The restart campaign at full size: N RabbitMQ restarts and N PostgreSQL restarts (default 10 each), each in the
# middle of a push (tests/Ingest.Service.Tests/BrokerRestartTests.cs; the suite restarts each once).
# Usage: ops/campaign-restarts.sh [N]
exec "$(dirname "$0")/campaign-run.sh" restarts tests/Ingest.Service.Tests "FullyQualifiedName~BrokerRestartTests" VAULT_CAMPAIGN_RESTARTS "${1:-10}" services
