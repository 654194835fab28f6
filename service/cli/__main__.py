"""`python -m service.cli`: the same as the `svar` command."""
from . import main

main()
