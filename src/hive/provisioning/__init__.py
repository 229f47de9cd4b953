"""Making, repairing and removing cells, in three rooms:

- `engine/`: runs workflows of steps (timing, timeouts, checkpoints, throttling,
  cancellation, failure records, compensation); knows no step's insides.
- `steps/`: the bodies of the create and delete workflows, and the workflows as data.
- `requests/`: what the API calls (create, retry, delete; service actions; workspaces).
"""
