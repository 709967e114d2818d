# Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
#
# Throughput against concurrent connections, from bench/report.py's
# throughput.dat:
#   gnuplot -e "datafile='DIR/throughput.dat'; outfile='DIR/throughput.png'" bench/throughput.gp
if (!exists("datafile")) datafile = 'throughput.dat'
if (!exists("outfile")) outfile = 'throughput.png'
set terminal pngcairo size 900,640 font "sans,11"
set output outfile
set title "POST /v1/recover on loopback, 2 cores shared by server and load generator"
set xlabel "concurrent connections"
set ylabel "requests per second"
set logscale x 2
set logscale y 10
set xtics ("1" 1, "8" 8, "64" 64)
set xrange [0.8:80]
set grid xtics ytics mytics
set key outside below center maxrows 4 spacing 1.1
set datafile missing "NaN"
plot datafile using 1:2 with linespoints lw 2 pt 7 title "Petera P-256, keep-alive", \
     ''       using 1:3 with linespoints lw 2 pt 5 title "Petera P-521, keep-alive", \
     ''       using 1:4 with linespoints lw 2 pt 9 title "Petera P-256, new TLS conn. (resumed)", \
     ''       using 1:5 with linespoints lw 2 pt 11 title "Petera P-256, new TLS conn. (full)", \
     ''       using 1:6 with linespoints lw 2 pt 13 title "Petera P-521, new TLS conn. (full)", \
     ''       using 1:7 with linespoints lw 2 dt 2 pt 6 title "Tang P-521, keep-alive", \
     ''       using 1:8 with linespoints lw 2 dt 2 pt 4 title "Tang P-521, new TCP conn."
