"""The ``pricer`` command: the same command line as the Rust binary (``pricer --help``)."""

import sys


def main() -> None:
    from pricer import _pricer

    try:
        code = _pricer.cli(sys.argv)
    except KeyboardInterrupt:
        # The run stopped at its next record; the run folder resumes on the next run.
        print("pricer: interrupted; run the same command again to resume", file=sys.stderr)
        code = 130
    sys.exit(code)


if __name__ == "__main__":
    main()
