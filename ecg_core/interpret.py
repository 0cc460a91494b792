"""Clinical summary combining ECG-FM labels and measurements. Not implemented yet (issue 4)."""
