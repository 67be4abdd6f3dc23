"""mergeClients and unmergeClients: one record per person, and a way back (issue 26)."""
