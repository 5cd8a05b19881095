"""`python -m hotline`: the same command as the `hotline` console script (see `hotline.cli`)."""

from hotline.cli import main

raise SystemExit(main())
