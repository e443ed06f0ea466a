#!/usr/bin/env bash
# The kill campaign at full size: N pushes (default 50) through a real RabbitMQ, 'vault serve' SIGKILLed at a random
# moment of each and restarted (tests/Ingest.Service.Tests/FaultTests.cs, kill_campaign_…; the suite kills twice).
# Usage: ops/campaign-kills.sh [N]
exec "$(dirname "$0")/campaign-run.sh" kills tests/Ingest.Service.Tests "FullyQualifiedName~kill_campaign" VAULT_CAMPAIGN_KILLS "${1:-50}" services
