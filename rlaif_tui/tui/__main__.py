from rlaif_tui.tui.cli import main

main()
