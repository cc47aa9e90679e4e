from tui_recommender.cli import main

raise SystemExit(main())
