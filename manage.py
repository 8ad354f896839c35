#!/usr/bin/env python
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "scrm.settings")
    from django.core.management import execute_from_command_line

    from scrm.devkeys import UnsafeToStart

    try:
        execute_from_command_line(sys.argv)
    except UnsafeToStart as refused:
        # A configuration that would run unsafely (e.g. production without secrets): one clear
        # line, not a traceback.
        sys.exit(f"scrm refuses to start: {refused}")
