from solvation.cli import main

main()
