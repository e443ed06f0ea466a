#!/usr/bin/env bash
# The hostile-producer campaign at full size: N messages (default 10,000) over 19 classes on every ingest queue of a
# real RabbitMQ, good pushes interleaved (tests/Ingest.Service.Tests/HostileCampaignTests.cs; the suite sends 380).
# Usage: ops/campaign-hostile.sh [N]
exec "$(dirname "$0")/campaign-run.sh" hostile tests/Ingest.Service.Tests "FullyQualifiedName~HostileCampaignTests" VAULT_CAMPAIGN_MESSAGES "${1:-10000}" services
