"""Bodies of the create and delete workflows' steps, and the workflows themselves."""
