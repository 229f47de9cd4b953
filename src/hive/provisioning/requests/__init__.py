"""What the API calls: requests on cells, service actions, workspace registration."""
