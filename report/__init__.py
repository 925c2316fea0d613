"""The report stage: reads only results/ (built by the report issue; nothing here yet)."""
