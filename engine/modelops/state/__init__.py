"""Recorded state: the file format (`format`), reading and atomic writing (`store`), the environment
lock (`lock`) and the write-ahead journal of an apply in progress (`journal`)."""
