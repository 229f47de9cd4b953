"""The workflow engine: runs a workflow's steps for a cell; knows no step's insides."""
