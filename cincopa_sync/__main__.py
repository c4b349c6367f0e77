from cincopa_sync.cli import main

main()
