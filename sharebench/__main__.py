from sharebench.cli import main

raise SystemExit(main())
