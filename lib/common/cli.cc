#include "lib/common/cli.h"

#include <iostream>

#include "lib/common/version.h"

namespace ferry {

void AddVersionFlag(CLI::App& app) {
  app.set_version_flag("--version", std::string(app.get_name()) + " " + kVersion);
}

std::optional<int> ParseCommandLine(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
    return std::nullopt;
  } catch (const CLI::CallForHelp&) {
    std::cout << app.help();
    return kExitOk;
  } catch (const CLI::CallForAllHelp&) {
    std::cout << app.help("", CLI::AppFormatMode::All);
    return kExitOk;
  } catch (const CLI::CallForVersion& version) {
    std::cout << version.what() << "\n";
    return kExitOk;
  } catch (const CLI::ParseError& error) {
    std::cerr << app.get_name() << ": " << error.what() << "\n"
              << "Run '" << app.get_name() << " --help' for usage.\n";
    return kExitUsage;
  }
}

}  // namespace ferry
