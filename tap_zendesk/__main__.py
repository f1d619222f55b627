"""The `tap-zendesk` command (and `python -m tap_zendesk`): the Singer tap, or
`tap-zendesk auth login` to authorize it."""

import sys


def main() -> None:
    """`tap-zendesk`: the Singer tap, or `tap-zendesk auth login` to authorize it."""
    if sys.argv[1:2] == ["auth"]:
        from tap_zendesk.login import auth

        auth(args=sys.argv[2:], prog_name="tap-zendesk auth")
        return
    from tap_zendesk.tap import TapZendesk

    TapZendesk.cli()


if __name__ == "__main__":
    main()
