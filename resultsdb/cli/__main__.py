from resultsdb.cli import main

main()
