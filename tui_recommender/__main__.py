from tui_recommender.cli.main import main

raise SystemExit(main())
