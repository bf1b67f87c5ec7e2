// Golden check for the RunOnFlux ZelHash reference miner's OpenCL kernel (used by
// zelhash-reference-miner.sh; compiled against the miner's own sources, nothing of it is copied).
// It feeds the miner's stratum object Flux block 400000 (108 header bytes, NONCE_1 = 60000016,
// the miner's 4-byte LE counter at header bytes 136..139 starting at 0x0011fd9c - argv[1]) and a
// target of all ff, so every solution the kernel finds goes through the miner's own
// testSolution/submitSolution path and is printed by its debug write ("Write to connection: ...
// mining.submit ..."; the write itself fails on the unconnected socket, which is expected).
// Block 400000's two known solutions (0898985c... and 08abd63b...) must appear for counter
// 9cfd1100. The miner's members are private, hence the access hack below.
#include <iostream>
#include <thread>
#include <cstdlib>
#include <string>
#include <sstream>
#include <vector>
#include <deque>
#include <random>
#include <any>
#include <iomanip>
#include <cassert>
#include <atomic>
#include <boost/scoped_ptr.hpp>
#include <boost/asio.hpp>
#include <boost/bind.hpp>
#include <boost/thread.hpp>
#include <boost/property_tree/ptree.hpp>
#include <boost/property_tree/json_parser.hpp>
#define private public
#include "zelStratum.cpp"
#undef private
#include "clHost.h"
#include <chrono>
using namespace zelMiner;
int main(int argc, char** argv) {
	zelStratum s("127.0.0.1", "1", "u", "x", true);
	string hdr = "04000000a8675c842f7a1342fadd00cd9b4e4909526b1c0ab5a747c5529b4deb13000000ce7d6ea2452245925fc70c3a08a3c3dd2ca4beab7481f237a19751666bfd25c30fd282d94b1e1a7f2c57eb3fb9e2853d990753fa137e13c99bd43f220d4fce6990e44f5dce28421d";
	s.blockHeader = parseHex(hdr);
	s.poolNonce = parseHex("60000016");
	s.target.assign(32, 0xff);
	s.workId = "1";
	s.timeStr = "90e44f5d";
	s.preComputeBlake();
	uint32_t back = argc > 1 ? atoi(argv[1]) : 1;
	s.nonce = 0x0011fd9c - back;
	s.socket.reset(new tcp::socket(s.io_service));
	boost::asio::io_service::work w(s.io_service);
	std::thread io([&]{ s.io_service.run(); });
	clHost h;
	vector<int32_t> dev(1, -1);
	h.setup(&s, dev, true, false);
	auto t0 = std::chrono::steady_clock::now();
	std::cout << "start" << std::endl;
	h.startMining();
}
