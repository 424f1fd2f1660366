// Runnable examples: the Run button and the streamed output (see README).
