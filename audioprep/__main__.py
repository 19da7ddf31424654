"""`python -m audioprep inspect DIR`: the audio core's one command."""

from __future__ import annotations

import sys

from audioprep.commands import Command, Group, command_line

COMMANDS = Group(__doc__, {
    "inspect": Command("describe a dataset folder and name its unreadable files",
                       "audioprep.inspect:add_arguments", "audioprep.inspect:main"),
})

main = command_line("python -m audioprep", __doc__, COMMANDS)

if __name__ == "__main__":
    sys.exit(main())
