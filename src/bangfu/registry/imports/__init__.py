"""Importing county spreadsheets (CSV, XLSX) into the registry without losing or silently altering a row.

The pipeline streams: ``reading`` turns a file into raw rows, ``headers`` maps its Chinese column
headers to fields, ``validate`` turns each raw row into a typed record or a rejection, and
``rejects`` writes the rejections back out for county staff to correct and re-import.
"""
