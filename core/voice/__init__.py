"""Voice commands: a recorded command (WAV) to the words heard, offline."""
