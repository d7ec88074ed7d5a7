"""`python -m riskshare.cli`: the same entry point as the installed `riskshare` command."""

from riskshare.cli.commands import main

main()
