from __future__ import annotations

from modelops.cli.main import main

raise SystemExit(main())
