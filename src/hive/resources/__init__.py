"""What each cell's processes cost: found, sampled, stored, reported."""
