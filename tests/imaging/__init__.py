"""Tests of the fax imaging: T.4 coding, TIFF Class F, document rendering."""
