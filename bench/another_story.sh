#!/usr/bin/env bash
# Another story, no precedents: the OceanGate Titan's loss (June 2023), seven real articles' openings
# (tests/data/story3/SOURCES.md), started with `storybot corpus init` and `storybot corpus add` as an
# operator would, then measured on tests/data/story3/questions.jsonl (written by a helper who read
# only those articles).   bench/another_story.sh [FOLDER]   (default: a temporary folder)
set -euo pipefail
cd "$(dirname "$0")/.."
sb=$PWD/.venv/bin/storybot; raw=$PWD/tests/data/story3/raw
dest=${1:-$(mktemp -d)/titan}
rm -rf "$dest"
$sb corpus init --story "the loss of the OceanGate Titan submersible near the Titanic wreck (June 2023)" "$dest" >/dev/null
export STORYBOT_CORPUS=$dest
add() { $sb corpus add --outlet "$2" --published "$3" --title "$4" --url "$5" "$raw/$1.txt" >/dev/null; }
add 01_cbsnews "CBS News" 2023-06-22 'Debris from OceanGate sub found 1,600 feet from Titanic after "catastrophic implosion," U.S. Coast Guard says' https://cbsnews.com/amp/sanfrancisco/news/missing-submarine-titanic-debris-field-oceangate-us-coast-guard
add 02_usni "USNI News" 2023-06-22 "Coast Guard: Titan Submersible Suffered Catastrophic Loss, Debris Found Near Titanic Wreck" https://news.usni.org/2023/06/22/coast-guard-titan-submersible-suffered-catastrophic-loss-debris-found-near-titanic-wreck
add 03_breitbart "Breitbart" 2023-06-22 "U.S. Coast Guard Confirms Debris Found from Titanic Sub Consistent with a Catastrophic Implosion of the Vessel, All Passengers Presumed Dead" https://www.breitbart.com/pre-viral/2023/06/22/u-s-coast-guard-confirms-debris-found-from-titanic-sub-consistent-with-a-catastrophic-implosion-of-the-vessel-all-passengers-presumed-dead/
add 04_clutchpoints "ClutchPoints" 2023-06-22 "OceanGate Titan passengers declared dead" https://clutchpoints.com/oceangate-titan-passengers-declared-dead
add 05_extratv "Extra" 2023-06-22 "Sub Crew on Titanic Mission Believed to Be Dead" https://extratv.com/2023/06/22/sub-crew-on-titanic-mission-believed-to-be-dead
add 06_businesstoday "Business Today" 2023-06-23 "Missing Titanic submarine: crew on board believed dead after catastrophic implosion" https://www.businesstoday.in/latest/story/missing-titanic-submarine-crew-on-board-believed-dead-after-catastrophic-implosion-386760-2023-06-23
add 07_straitstimes "The Straits Times" 2023-06-23 "Titanic submersible destroyed in ‘catastrophic implosion’" https://www.straitstimes.com/world/while-you-were-sleeping-5-stories-you-might-have-missed-june-23-4
$sb eval tests/data/story3/questions.jsonl
