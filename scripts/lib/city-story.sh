# The city story of `scripts/demo city`, sourced by scripts/demo once its node answers (it
# defines $civitas, $work, step and json). A welfare fund is allocated, passed through a paying
# bank and disbursed to pseudonymous recipients with every tranche approved by a second
# department, then traced; a repair ticket is filed, reopened and confirmed, then traced; a
# supervised hotel files records on time and late and misses slots, and the report shows it;
# civil affairs issues alice a residence registration that a bank verifies from the chain alone.

alice=$("$civitas" identity subject alice)
bob=$("$civitas" identity subject bob)
code_of() { "$civitas" contract check "target/civitas/$1.wasm" --json | json 'd["code_hash"]'; }
instantiate() { # contract owner [constructor args]
  "$civitas" contract deploy "target/civitas/$1.wasm" --from "$2" --send --json >/dev/null
  "$civitas" contract instantiate "$(code_of "$1")" --from "$2" --args "${3:-[]}" --salt city --send --json | json 'd["output"]'
}
send() { # contract from method args
  local r
  if r=$("$civitas" contract call "$1" "$3" --args "$4" --from "$2" --send --json 2>"$work/send.err"); then
    printf '   %-16s %-18s %s\n' "$2" "$3" "$(echo "$r" | json 'd["status"]')"
  else
    printf '   %-16s %-18s refused: %s\n' "$2" "$3" "$(tail -1 "$work/send.err" | sed 's/^error: //')"
  fi
}
# A recipient's pseudonym: sha3-256(subject id ‖ the fund's salt); the salt goes to regulators only.
pseudonym() { python3 -c 'import hashlib,sys; print("0x" + hashlib.sha3_256(bytes.fromhex(sys.argv[1][2:]) + sys.argv[2].encode()).hexdigest())' "$1" "$2"; }

step "1. Social security allocates a winter-heating fund; civil affairs must approve every tranche"
fund=$(instantiate welfare-fund social-security)
echo "   welfare-fund contract $fund"
send "$fund" social-security allocate '["winter-heating-2026", 1000000, "civil-affairs"]'
send "$fund" social-security add_intermediary '[1, "bank-a"]'

step "2. The money moves in tranches: to the paying bank, then to pseudonymous recipients"
salt="winter-heating-2026/district-3"
pa=$(pseudonym "$alice" "$salt")
pb=$(pseudonym "$bob" "$salt")
echo "   recipients appear only as pseudonyms: alice $pa"
echo "                                         bob   $pb"
send "$fund" social-security propose '[1, {"Holder": "bank-a"}, 600000, "paying bank, district 3"]'
echo "   (refused: the allocator cannot approve its own tranche)"
send "$fund" social-security approve '[1]'
send "$fund" civil-affairs approve '[1]'
send "$fund" bank-a propose "[1, {\"Recipient\": \"$pa\"}, 250000, \"january\"]"
send "$fund" bank-a propose "[1, {\"Recipient\": \"$pb\"}, 250000, \"january\"]"
send "$fund" civil-affairs approve '[2]'
send "$fund" civil-affairs reject '[3, "not eligible this winter"]'

step "3. Anyone traces the fund from allocation to every recipient; the totals add up"
"$civitas" trace "$fund" 1 | sed 's/^/   /'

step "4. A resident files a repair ticket; the property desk assigns and closes it; she reopens it"
desk=$(instantiate community-tickets real-estate)
echo "   community-tickets contract $desk (run by the real-estate department's estate desk)"
send "$desk" alice file '["lift in block 4 stuck"]'
send "$desk" real-estate assign '[1, "bob"]'
send "$desk" bob close '[1, "reset the lift controller"]'
send "$desk" alice reopen '[1, "stuck again the next morning"]'
send "$desk" bob close '[1, "replaced the door motor"]'
send "$desk" alice confirm '[1]'

step "5. The ticket's trail: every step with its date, and how long it took to close"
"$civitas" trace "$desk" 1 | sed 's/^/   /'

step "6. The event index: every approved tranche of any fund, decoded with the contract's metadata"
"$civitas" events --contract "$fund" --topic TrancheApproved | sed 's/^/   /'

step "7. Market supervision registers a hotel that must report a disinfection every 10 minutes"
sup=$(instantiate supervision regulator '[60000]')
echo "   supervision contract $sup (records more than 1 minute old when recorded are marked late)"
now=$("$civitas" block --json | json 'd["header"]["time_ms"]')
start=$((now - 3600000))
send "$sup" regulator register "[\"Harbour Hotel\", 600000, $start]"
send "$sup" regulator add_reporter '[1, "bank-b"]'
echo "   (bank-b's key stands in for the hotel's camera)"
evidence=0x$(printf 'camera frame' | python3 -c 'import hashlib,sys; print(hashlib.sha3_256(sys.stdin.buffer.read()).hexdigest())')
for claimed in $((start + 60000)) $((start + 1500000)) $((now - 5000)); do
  send "$sup" bank-b report "[1, \"disinfection\", \"room 204, UV-C 15 min\", \"$evidence\", $claimed]"
done
echo "   (refused: a record claimed 10 minutes in the future)"
send "$sup" bank-b report "[1, \"disinfection\", \"room 204\", \"$evidence\", $((now + 600000))]"

step "8. The supervision report: records back-filled an hour late are marked, missing slots are gaps"
"$civitas" supervision report --contract "$sup" --entity 1 --from "$start" | sed 's/^/   /'

step "9. Civil affairs issues alice an electronic residence registration (signed document, status on chain)"
registry=$(instantiate licences civil-affairs)
echo "   licences registry $registry"
"$civitas" identity bind --subject alice --account alice --from civil-affairs >/dev/null
"$civitas" licence issue --registry "$registry" --subject alice --kind residence-registration \
  --field address="12 Harbour Road" --field since=2019-04-01 --valid-for 365d --from civil-affairs \
  --out "$work/residence.json" | sed 's/^/   /'

step "10. She presents it to bank-a; the bank verifies it against the chain alone and records its check"
"$civitas" licence present "$work/residence.json" --from alice --to bank-a --out "$work/presented.json" | sed 's/^/   /'
"$civitas" licence verify "$work/presented.json" --from bank-a --record | sed 's/^/   /'

step "11. Civil affairs revokes it: the same file no longer verifies, and the reason is shown"
send "$registry" civil-affairs revoke '[1, "moved out of the city"]'
"$civitas" licence verify "$work/presented.json" --from bank-a 2>&1 | sed 's/^/   /' || true
