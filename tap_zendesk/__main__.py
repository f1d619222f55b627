"""`python -m tap_zendesk` runs the tap's command line."""

from tap_zendesk.cli import main

main()
