from ccgen.cli import main

main()
