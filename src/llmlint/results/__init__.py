"""What a check produces and what filters it: findings and problems, suppression comments, baselines."""
