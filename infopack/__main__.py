from infopack.cli import main

main()
