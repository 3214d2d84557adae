"""The click layer: parse options, call one service function, render, return an exit code."""
