explain /dev/null
