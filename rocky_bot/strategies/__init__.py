"""Strategy loops (ladder, anchor, taker) around pure decisions in `quoting`."""
