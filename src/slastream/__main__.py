from slastream.cli import main

raise SystemExit(main())
