"""Progress (live, from the dispatch side): response rates, counts over time, snapshots."""
