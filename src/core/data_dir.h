// Where tandem keeps the user's data: installed models, the routing ledger, chat history.
#pragma once
#include <string>

namespace tandem {

// $TANDEM_HOME, else $XDG_DATA_HOME/tandem, else ~/.local/share/tandem (not created here);
// a tandem::Error when there is no home directory to put it in.
std::string tandem_home();

}  // namespace tandem
