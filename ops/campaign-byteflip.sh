#!/usr/bin/env bash
# The byte-flip campaign at full size: N random byte flips (default 1,000), ten files a round, across the stored
# segments and a tape image; vault check --read-data must find each, and no restore may return damaged data
# (tests/Vault.Ops.Tests/ByteFlipCampaignTests.cs; the suite flips 40).
# Usage: ops/campaign-byteflip.sh [N]
exec "$(dirname "$0")/campaign-run.sh" byteflip tests/Vault.Ops.Tests "FullyQualifiedName~ByteFlipCampaignTests" VAULT_CAMPAIGN_FLIPS "${1:-1000}" 
