"""Operations: metric sources, monitoring, notifications, capacity and maturity."""
